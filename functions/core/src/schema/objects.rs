//! The objects of the setup guide, with the fields and picklist values the
//! product reads and writes. Standard fields are marked `custom: false`.

use super::{DefaultValue, FieldDef, FieldType, ObjectDef};

const fn base(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    FieldDef {
        name,
        label,
        kind,
        required: false,
        createable: true,
        updateable: true,
        custom: false,
        external_id: false,
        unique: false,
        default: None,
    }
}

/// A standard, optional, editable field.
const fn std_field(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    base(name, label, kind)
}

/// A standard field that must be given on create.
const fn std_required(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    FieldDef {
        required: true,
        ..base(name, label, kind)
    }
}

/// A custom field of the product's metadata package.
const fn custom(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    FieldDef {
        custom: true,
        ..base(name, label, kind)
    }
}

/// A field set by the system: readable, never writable.
const fn read_only(name: &'static str, label: &'static str, kind: FieldType) -> FieldDef {
    FieldDef {
        createable: false,
        updateable: false,
        ..base(name, label, kind)
    }
}

/// Set on create, fixed afterwards (master-detail parents, for instance).
const fn create_only(field: FieldDef) -> FieldDef {
    FieldDef {
        updateable: false,
        ..field
    }
}

const fn with_default(field: FieldDef, default: DefaultValue) -> FieldDef {
    FieldDef {
        default: Some(default),
        ..field
    }
}

const fn external_id(field: FieldDef) -> FieldDef {
    FieldDef {
        external_id: true,
        unique: true,
        ..field
    }
}

const fn text(length: u32) -> FieldType {
    FieldType::Text { length }
}

const fn picklist(values: &'static [&'static str]) -> FieldType {
    FieldType::Picklist {
        values,
        restricted: true,
    }
}

const fn open_picklist(values: &'static [&'static str]) -> FieldType {
    FieldType::Picklist {
        values,
        restricted: false,
    }
}

const fn reference(to: &'static str, relationship: &'static str) -> FieldType {
    FieldType::Reference { to, relationship }
}

const NUMBER_18_0: FieldType = FieldType::Number {
    precision: 18,
    scale: 0,
};

/// `Portal_Request_Key__c` (Text(64), External ID, Unique) on the primary
/// record of each portal POST — the Order, the Case, the Contact: SHA-256
/// (hex) of the login and its `Idempotency-Key`. Salesforce refuses a second
/// record with the same key (`DUPLICATE_VALUE`), so a request whose answer was
/// lost is written at most once whatever its retries do, and a retry finds
/// what the first attempt wrote by this key (issue 12, defect 1).
pub const PORTAL_REQUEST_KEY: &str = "Portal_Request_Key__c";

/// The length of [`PORTAL_REQUEST_KEY`]: a SHA-256 digest in hex.
pub const PORTAL_REQUEST_KEY_LENGTH: u32 = 64;

const fn request_key() -> FieldDef {
    external_id(custom(
        PORTAL_REQUEST_KEY,
        "Portal Request Key",
        text(PORTAL_REQUEST_KEY_LENGTH),
    ))
}

/// Fields every object has, set by the platform.
pub static SYSTEM_FIELDS: &[FieldDef] = &[
    read_only("Id", "Record ID", FieldType::Id),
    read_only("CreatedDate", "Created Date", FieldType::DateTime),
    read_only(
        "LastModifiedDate",
        "Last Modified Date",
        FieldType::DateTime,
    ),
    read_only(
        "CreatedById",
        "Created By ID",
        reference("User", "CreatedBy"),
    ),
    read_only(
        "LastModifiedById",
        "Last Modified By ID",
        reference("User", "LastModifiedBy"),
    ),
];

/// `Account`: the customer.
pub mod account {
    pub const OBJECT: &str = "Account";
    pub const NAME: &str = "Name";
    pub const PHONE: &str = "Phone";
    pub const CUSTOMER_NUMBER: &str = "SF_Account_No__c";
    pub const WHMCS_ACCOUNT: &str = "WH_Account__c";
    pub const ELIGIBILITY: &str = "Internet_Eligibility__c";
    pub const ELIGIBILITY_STATUS: &str = "Internet_Eligibility_Status__c";
    pub const ELIGIBILITY_REQUESTED_AT: &str = "Internet_Eligibility_Request_Date_Time__c";
    pub const ELIGIBILITY_CHECKED_AT: &str = "Internet_Eligibility_Checked_Date_Time__c";
    pub const ID_VERIFICATION_STATUS: &str = "Id_Verification_Status__c";
    pub const ID_VERIFICATION_SUBMITTED_AT: &str = "Id_Verification_Submitted_Date_Time__c";
    pub const ID_VERIFICATION_VERIFIED_AT: &str = "Id_Verification_Verified_Date_Time__c";
    pub const ID_VERIFICATION_NOTE: &str = "Id_Verification_Note__c";
    pub const ID_VERIFICATION_REJECTION: &str = "Id_Verification_Rejection_Message__c";
    pub const PORTAL_STATUS: &str = "Portal_Status__c";
    pub const REGISTRATION_SOURCE: &str = "Portal_Registration_Source__c";

    pub const ELIGIBILITY_STATUS_VALUES: &[&str] = &["Pending", "Checked"];
    pub const ID_VERIFICATION_STATUS_VALUES: &[&str] = &["Pending", "Verified", "Rejected"];
    pub const PORTAL_STATUS_VALUES: &[&str] = &["Active", "Inactive"];
    pub const REGISTRATION_SOURCE_VALUES: &[&str] = &["Legacy", "Portal Signup", "Portal Checkout"];
}

/// `Contact`: the person behind the portal login.
pub mod contact {
    pub const OBJECT: &str = "Contact";
    pub const FIRST_NAME: &str = "FirstName";
    pub const LAST_NAME: &str = "LastName";
    pub const EMAIL: &str = "Email";
    pub const PHONE: &str = "Phone";
    pub const ACCOUNT_ID: &str = "AccountId";
    /// The request key of the registration that created (or linked) this Contact.
    pub const REQUEST_KEY: &str = super::PORTAL_REQUEST_KEY;
}

/// `Opportunity`: the customer's lifecycle for one commodity.
pub mod opportunity {
    pub const OBJECT: &str = "Opportunity";
    pub const NAME: &str = "Name";
    pub const ACCOUNT_ID: &str = "AccountId";
    pub const STAGE: &str = "StageName";
    pub const CLOSE_DATE: &str = "CloseDate";
    pub const PRICEBOOK_ID: &str = "Pricebook2Id";
    pub const COMMODITY_TYPE: &str = "CommodityType";
    pub const APPLICATION_STAGE: &str = "Application_Stage__c";
    pub const CANCELLATION_NOTICE: &str = "CancellationNotice__c";
    pub const SCHEDULED_CANCELLATION: &str = "ScheduledCancellationDateAndTime__c";
    pub const LINE_RETURN: &str = "LineReturn__c";
    pub const PORTAL_SOURCE: &str = "Portal_Source__c";
    pub const WHMCS_SERVICE_ID: &str = "WHMCS_Service_ID__c";

    pub const STAGE_VALUES: &[&str] = &[
        "Introduction",
        "Ready",
        "Post Processing",
        "Active",
        "△Cancelling",
        "△Cancelled",
        "Void",
    ];
    pub const COMMODITY_TYPE_VALUES: &[&str] = &[
        "Personal SonixNet Home Internet",
        "Corporate SonixNet Home Internet",
        "SIM",
        "VPN",
    ];
    pub const PORTAL_SOURCE_VALUES: &[&str] = &[
        "Portal - Internet Eligibility Request",
        "Portal - Order Placement",
        "Sales - Manual",
    ];
    /// CS's own workflow values; the product never writes them.
    pub const APPLICATION_STAGE_VALUES: &[&str] =
        &["New", "Documents Requested", "In Review", "Completed"];
    pub const CANCELLATION_NOTICE_VALUES: &[&str] = &["Not Requested", "Requested", "Confirmed"];
    pub const LINE_RETURN_VALUES: &[&str] = &["Not Required", "Pending", "Returned"];
}

/// `Case`: customer requests and support tickets.
pub mod case {
    pub const OBJECT: &str = "Case";
    pub const CASE_NUMBER: &str = "CaseNumber";
    pub const SUBJECT: &str = "Subject";
    pub const DESCRIPTION: &str = "Description";
    pub const TYPE: &str = "Type";
    pub const STATUS: &str = "Status";
    pub const ORIGIN: &str = "Origin";
    pub const ACCOUNT_ID: &str = "AccountId";
    pub const CONTACT_ID: &str = "ContactId";
    pub const OPPORTUNITY_ID: &str = "OpportunityId";
    /// The request key of the portal request that opened this Case.
    pub const REQUEST_KEY: &str = super::PORTAL_REQUEST_KEY;

    pub const TYPE_VALUES: &[&str] = &[
        "Eligibility Check",
        "ID Verification",
        "Cancellation Request",
        "General Inquiry",
    ];
    pub const STATUS_VALUES: &[&str] = &["New", "Working", "Escalated", "Closed"];
    pub const ORIGIN_VALUES: &[&str] = &["Phone", "Email", "Web", "Portal"];
}

/// `Order`: a customer's purchase, approved by CS, provisioned into WHMCS.
pub mod order {
    pub const OBJECT: &str = "Order";
    pub const ORDER_NUMBER: &str = "OrderNumber";
    pub const ACCOUNT_ID: &str = "AccountId";
    pub const OPPORTUNITY_ID: &str = "OpportunityId";
    pub const STATUS: &str = "Status";
    pub const EFFECTIVE_DATE: &str = "EffectiveDate";
    pub const PRICEBOOK_ID: &str = "Pricebook2Id";
    pub const TOTAL_AMOUNT: &str = "TotalAmount";
    pub const ACTIVATION_STATUS: &str = "Activation_Status__c";
    pub const ACTIVATION_ERROR: &str = "Activation_Error__c";
    pub const ACTIVATION_ERROR_AT: &str = "Activation_Error_DateTime__c";
    pub const WHMCS_ORDER_ID: &str = "WHMCS_Order_Id__c";
    /// The request key of the portal request that placed this Order.
    pub const REQUEST_KEY: &str = super::PORTAL_REQUEST_KEY;

    pub const STATUS_VALUES: &[&str] = &[
        "Draft",
        "Pending Review",
        "Approved",
        "Activated",
        "Cancelled",
    ];
    pub const ACTIVATION_STATUS_VALUES: &[&str] =
        &["Pending Review", "Activating", "Provisioned", "Failed"];
}

/// `OrderItem`: one line of an Order.
pub mod order_item {
    pub const OBJECT: &str = "OrderItem";
    pub const ORDER_ID: &str = "OrderId";
    pub const PRODUCT_ID: &str = "Product2Id";
    pub const PRICEBOOK_ENTRY_ID: &str = "PricebookEntryId";
    pub const QUANTITY: &str = "Quantity";
    pub const UNIT_PRICE: &str = "UnitPrice";
    pub const TOTAL_PRICE: &str = "TotalPrice";
    pub const ORDER_ITEM_NUMBER: &str = "OrderItemNumber";
}

/// `Product2`: the catalog, with its WHMCS mapping.
pub mod product {
    pub const OBJECT: &str = "Product2";
    pub const NAME: &str = "Name";
    pub const PRODUCT_CODE: &str = "ProductCode";
    pub const DESCRIPTION: &str = "Description";
    pub const IS_ACTIVE: &str = "IsActive";
    /// The commodity a product belongs to (`Internet`, `SIM`, `VPN`).
    pub const FAMILY: &str = "Family";
    pub const WHMCS_PRODUCT_ID: &str = "WHMCS_Product_Id__c";
    pub const BILLING_CYCLE: &str = "Billing_Cycle__c";
    pub const ITEM_CLASS: &str = "Item_Class__c";
    pub const CONFIG_OPTIONS_JSON: &str = "Portal_ConfigOptions_JSON__c";

    pub const FAMILY_VALUES: &[&str] = &["Internet", "SIM", "VPN"];
    pub const BILLING_CYCLE_VALUES: &[&str] = &["Monthly", "Annually", "One-time"];
    pub const ITEM_CLASS_VALUES: &[&str] = &["Service", "Activation", "Add-on"];
}

/// `Pricebook2`: a price book.
pub mod pricebook {
    pub const OBJECT: &str = "Pricebook2";
    pub const NAME: &str = "Name";
    pub const IS_ACTIVE: &str = "IsActive";
    pub const IS_STANDARD: &str = "IsStandard";
    pub const DESCRIPTION: &str = "Description";
}

/// `PricebookEntry`: a product's price in a price book — the only source of prices.
pub mod pricebook_entry {
    pub const OBJECT: &str = "PricebookEntry";
    pub const PRICEBOOK_ID: &str = "Pricebook2Id";
    pub const PRODUCT_ID: &str = "Product2Id";
    pub const UNIT_PRICE: &str = "UnitPrice";
    pub const IS_ACTIVE: &str = "IsActive";
    pub const USE_STANDARD_PRICE: &str = "UseStandardPrice";
}

/// `User`: who made a change (the integration user, CS staff).
pub mod user {
    pub const OBJECT: &str = "User";
    pub const NAME: &str = "Name";
    pub const USERNAME: &str = "Username";
    pub const EMAIL: &str = "Email";
    pub const IS_ACTIVE: &str = "IsActive";
}

/// `ContentVersion`: one version of a Salesforce File — the ID documents a
/// customer uploads, stored on their `ID Verification` case.
///
/// Creating one (with `VersionData`, base64 in JSON) makes a `ContentDocument`
/// and, with `FirstPublishLocationId`, a `ContentDocumentLink` from it to that
/// record. `FirstPublishLocationId` is polymorphic in Salesforce; the product
/// only publishes to Cases, so the schema names `Case`.
pub mod content_version {
    pub const OBJECT: &str = "ContentVersion";
    pub const TITLE: &str = "Title";
    pub const PATH_ON_CLIENT: &str = "PathOnClient";
    pub const VERSION_DATA: &str = "VersionData";
    pub const FIRST_PUBLISH_LOCATION_ID: &str = "FirstPublishLocationId";
    pub const CONTENT_DOCUMENT_ID: &str = "ContentDocumentId";
    pub const CONTENT_LOCATION: &str = "ContentLocation";
    pub const CONTENT_SIZE: &str = "ContentSize";
    pub const FILE_EXTENSION: &str = "FileExtension";
    pub const FILE_TYPE: &str = "FileType";
    pub const CHECKSUM: &str = "Checksum";
    pub const IS_LATEST: &str = "IsLatest";
    pub const VERSION_NUMBER: &str = "VersionNumber";

    /// `S`: stored in Salesforce; `E`: external; `L`: social network.
    pub const CONTENT_LOCATION_VALUES: &[&str] = &["S", "E", "L"];
}

/// `ContentDocument`: a Salesforce File, whatever its versions.
pub mod content_document {
    pub const OBJECT: &str = "ContentDocument";
    pub const TITLE: &str = "Title";
    pub const LATEST_PUBLISHED_VERSION_ID: &str = "LatestPublishedVersionId";
    pub const FILE_TYPE: &str = "FileType";
    pub const FILE_EXTENSION: &str = "FileExtension";
    pub const CONTENT_SIZE: &str = "ContentSize";
}

/// `ContentDocumentLink`: a File shared with a record (`LinkedEntityId`,
/// polymorphic in Salesforce; the product links to Cases only).
pub mod content_document_link {
    pub const OBJECT: &str = "ContentDocumentLink";
    pub const CONTENT_DOCUMENT_ID: &str = "ContentDocumentId";
    pub const LINKED_ENTITY_ID: &str = "LinkedEntityId";
    pub const SHARE_TYPE: &str = "ShareType";
    pub const VISIBILITY: &str = "Visibility";

    /// `V` viewer, `C` collaborator, `I` inferred.
    pub const SHARE_TYPE_VALUES: &[&str] = &["V", "C", "I"];
    pub const VISIBILITY_VALUES: &[&str] = &["AllUsers", "InternalUsers", "SharedUsers"];
}

/// Every object the product touches.
pub static OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        name: account::OBJECT,
        label: "Account",
        key_prefix: "001",
        fields: &[
            std_required(account::NAME, "Account Name", text(255)),
            std_field(account::PHONE, "Account Phone", FieldType::Phone),
            external_id(custom(
                account::CUSTOMER_NUMBER,
                "Customer Number",
                text(20),
            )),
            custom(account::WHMCS_ACCOUNT, "WHMCS Account ID", NUMBER_18_0),
            custom(account::ELIGIBILITY, "Eligibility Value", text(255)),
            custom(
                account::ELIGIBILITY_STATUS,
                "Eligibility Status",
                picklist(account::ELIGIBILITY_STATUS_VALUES),
            ),
            custom(
                account::ELIGIBILITY_REQUESTED_AT,
                "Eligibility Request Date",
                FieldType::DateTime,
            ),
            custom(
                account::ELIGIBILITY_CHECKED_AT,
                "Eligibility Checked Date",
                FieldType::DateTime,
            ),
            custom(
                account::ID_VERIFICATION_STATUS,
                "ID Verification Status",
                picklist(account::ID_VERIFICATION_STATUS_VALUES),
            ),
            custom(
                account::ID_VERIFICATION_SUBMITTED_AT,
                "ID Verification Submitted Date",
                FieldType::DateTime,
            ),
            custom(
                account::ID_VERIFICATION_VERIFIED_AT,
                "ID Verification Verified Date",
                FieldType::DateTime,
            ),
            custom(
                account::ID_VERIFICATION_NOTE,
                "ID Verification Notes",
                FieldType::TextArea { length: 255 },
            ),
            custom(
                account::ID_VERIFICATION_REJECTION,
                "ID Verification Rejection Message",
                text(255),
            ),
            custom(
                account::PORTAL_STATUS,
                "Portal Status",
                picklist(account::PORTAL_STATUS_VALUES),
            ),
            custom(
                account::REGISTRATION_SOURCE,
                "Portal Registration Source",
                picklist(account::REGISTRATION_SOURCE_VALUES),
            ),
        ],
    },
    ObjectDef {
        name: contact::OBJECT,
        label: "Contact",
        key_prefix: "003",
        fields: &[
            std_field(contact::FIRST_NAME, "First Name", text(40)),
            std_required(contact::LAST_NAME, "Last Name", text(80)),
            std_field(contact::EMAIL, "Email", FieldType::Email),
            std_field(contact::PHONE, "Business Phone", FieldType::Phone),
            std_field(
                contact::ACCOUNT_ID,
                "Account ID",
                reference("Account", "Account"),
            ),
            // Updateable: linking an existing Account stamps its Contact.
            request_key(),
        ],
    },
    ObjectDef {
        name: opportunity::OBJECT,
        label: "Opportunity",
        key_prefix: "006",
        fields: &[
            std_required(opportunity::NAME, "Name", text(120)),
            std_field(
                opportunity::ACCOUNT_ID,
                "Account ID",
                reference("Account", "Account"),
            ),
            std_required(
                opportunity::STAGE,
                "Stage",
                picklist(opportunity::STAGE_VALUES),
            ),
            std_required(opportunity::CLOSE_DATE, "Close Date", FieldType::Date),
            std_field(
                opportunity::PRICEBOOK_ID,
                "Price Book ID",
                reference("Pricebook2", "Pricebook2"),
            ),
            custom(
                opportunity::COMMODITY_TYPE,
                "Commodity Type",
                picklist(opportunity::COMMODITY_TYPE_VALUES),
            ),
            custom(
                opportunity::APPLICATION_STAGE,
                "Application Stage",
                open_picklist(opportunity::APPLICATION_STAGE_VALUES),
            ),
            custom(
                opportunity::CANCELLATION_NOTICE,
                "Cancellation Notice",
                open_picklist(opportunity::CANCELLATION_NOTICE_VALUES),
            ),
            custom(
                opportunity::SCHEDULED_CANCELLATION,
                "Scheduled Cancellation",
                FieldType::DateTime,
            ),
            custom(
                opportunity::LINE_RETURN,
                "Line Return Status",
                open_picklist(opportunity::LINE_RETURN_VALUES),
            ),
            custom(
                opportunity::PORTAL_SOURCE,
                "Portal Source",
                picklist(opportunity::PORTAL_SOURCE_VALUES),
            ),
            external_id(custom(
                opportunity::WHMCS_SERVICE_ID,
                "WHMCS Service ID",
                NUMBER_18_0,
            )),
        ],
    },
    ObjectDef {
        name: case::OBJECT,
        label: "Case",
        key_prefix: "500",
        fields: &[
            read_only(
                case::CASE_NUMBER,
                "Case Number",
                FieldType::AutoNumber { digits: 8 },
            ),
            std_field(case::SUBJECT, "Subject", text(255)),
            std_field(
                case::DESCRIPTION,
                "Description",
                FieldType::TextArea { length: 32000 },
            ),
            std_field(case::TYPE, "Case Type", picklist(case::TYPE_VALUES)),
            with_default(
                std_field(case::STATUS, "Status", picklist(case::STATUS_VALUES)),
                DefaultValue::Text("New"),
            ),
            std_field(
                case::ORIGIN,
                "Case Origin",
                open_picklist(case::ORIGIN_VALUES),
            ),
            std_field(
                case::ACCOUNT_ID,
                "Account ID",
                reference("Account", "Account"),
            ),
            std_field(
                case::CONTACT_ID,
                "Contact ID",
                reference("Contact", "Contact"),
            ),
            std_field(
                case::OPPORTUNITY_ID,
                "Opportunity ID",
                reference("Opportunity", "Opportunity"),
            ),
            create_only(request_key()),
        ],
    },
    ObjectDef {
        name: order::OBJECT,
        label: "Order",
        key_prefix: "801",
        fields: &[
            read_only(
                order::ORDER_NUMBER,
                "Order Number",
                FieldType::AutoNumber { digits: 8 },
            ),
            std_required(
                order::ACCOUNT_ID,
                "Account ID",
                reference("Account", "Account"),
            ),
            std_field(
                order::OPPORTUNITY_ID,
                "Opportunity ID",
                reference("Opportunity", "Opportunity"),
            ),
            with_default(
                std_field(order::STATUS, "Status", picklist(order::STATUS_VALUES)),
                DefaultValue::Text("Draft"),
            ),
            std_required(order::EFFECTIVE_DATE, "Order Start Date", FieldType::Date),
            std_field(
                order::PRICEBOOK_ID,
                "Price Book ID",
                reference("Pricebook2", "Pricebook2"),
            ),
            read_only(order::TOTAL_AMOUNT, "Order Amount", FieldType::Currency),
            custom(
                order::ACTIVATION_STATUS,
                "Activation Status",
                picklist(order::ACTIVATION_STATUS_VALUES),
            ),
            custom(order::ACTIVATION_ERROR, "Activation Error", text(255)),
            custom(
                order::ACTIVATION_ERROR_AT,
                "Activation Error Time",
                FieldType::DateTime,
            ),
            custom(order::WHMCS_ORDER_ID, "WHMCS Order ID", NUMBER_18_0),
            create_only(request_key()),
        ],
    },
    ObjectDef {
        name: order_item::OBJECT,
        label: "Order Product",
        key_prefix: "802",
        fields: &[
            read_only(
                order_item::ORDER_ITEM_NUMBER,
                "Order Product Number",
                FieldType::AutoNumber { digits: 10 },
            ),
            create_only(std_required(
                order_item::ORDER_ID,
                "Order ID",
                reference("Order", "Order"),
            )),
            create_only(std_field(
                order_item::PRODUCT_ID,
                "Product ID",
                reference("Product2", "Product2"),
            )),
            create_only(std_required(
                order_item::PRICEBOOK_ENTRY_ID,
                "Price Book Entry ID",
                reference("PricebookEntry", "PricebookEntry"),
            )),
            std_required(
                order_item::QUANTITY,
                "Quantity",
                FieldType::Number {
                    precision: 18,
                    scale: 2,
                },
            ),
            std_required(order_item::UNIT_PRICE, "Unit Price", FieldType::Currency),
            read_only(order_item::TOTAL_PRICE, "Total Price", FieldType::Currency),
        ],
    },
    ObjectDef {
        name: product::OBJECT,
        label: "Product",
        key_prefix: "01t",
        fields: &[
            std_required(product::NAME, "Product Name", text(255)),
            std_field(product::PRODUCT_CODE, "Product Code", text(255)),
            std_field(
                product::DESCRIPTION,
                "Product Description",
                FieldType::TextArea { length: 4000 },
            ),
            with_default(
                std_field(product::IS_ACTIVE, "Active", FieldType::Boolean),
                DefaultValue::Bool(false),
            ),
            std_field(
                product::FAMILY,
                "Product Family",
                open_picklist(product::FAMILY_VALUES),
            ),
            custom(product::WHMCS_PRODUCT_ID, "WHMCS Product ID", text(20)),
            custom(
                product::BILLING_CYCLE,
                "Billing Cycle",
                picklist(product::BILLING_CYCLE_VALUES),
            ),
            custom(
                product::ITEM_CLASS,
                "Item Class",
                picklist(product::ITEM_CLASS_VALUES),
            ),
            custom(
                product::CONFIG_OPTIONS_JSON,
                "Config Options JSON",
                FieldType::TextArea { length: 32768 },
            ),
        ],
    },
    ObjectDef {
        name: pricebook::OBJECT,
        label: "Price Book",
        key_prefix: "01s",
        fields: &[
            std_required(pricebook::NAME, "Price Book Name", text(255)),
            with_default(
                std_field(pricebook::IS_ACTIVE, "Active", FieldType::Boolean),
                DefaultValue::Bool(false),
            ),
            with_default(
                read_only(
                    pricebook::IS_STANDARD,
                    "Is Standard Price Book",
                    FieldType::Boolean,
                ),
                DefaultValue::Bool(false),
            ),
            std_field(pricebook::DESCRIPTION, "Description", text(255)),
        ],
    },
    ObjectDef {
        name: pricebook_entry::OBJECT,
        label: "Price Book Entry",
        key_prefix: "01u",
        fields: &[
            create_only(std_required(
                pricebook_entry::PRICEBOOK_ID,
                "Price Book ID",
                reference("Pricebook2", "Pricebook2"),
            )),
            create_only(std_required(
                pricebook_entry::PRODUCT_ID,
                "Product ID",
                reference("Product2", "Product2"),
            )),
            std_required(
                pricebook_entry::UNIT_PRICE,
                "List Price",
                FieldType::Currency,
            ),
            with_default(
                std_field(pricebook_entry::IS_ACTIVE, "Active", FieldType::Boolean),
                DefaultValue::Bool(false),
            ),
            with_default(
                std_field(
                    pricebook_entry::USE_STANDARD_PRICE,
                    "Use Standard Price",
                    FieldType::Boolean,
                ),
                DefaultValue::Bool(false),
            ),
        ],
    },
    ObjectDef {
        name: content_version::OBJECT,
        label: "Content Version",
        key_prefix: "068",
        fields: &[
            std_field(content_version::TITLE, "Title", text(255)),
            create_only(std_required(
                content_version::PATH_ON_CLIENT,
                "Path On Client",
                text(500),
            )),
            create_only(std_required(
                content_version::VERSION_DATA,
                "Version Data",
                FieldType::Base64,
            )),
            create_only(std_field(
                content_version::FIRST_PUBLISH_LOCATION_ID,
                "First Publish Location ID",
                reference("Case", "FirstPublishLocation"),
            )),
            read_only(
                content_version::CONTENT_DOCUMENT_ID,
                "ContentDocument ID",
                reference("ContentDocument", "ContentDocument"),
            ),
            with_default(
                create_only(std_field(
                    content_version::CONTENT_LOCATION,
                    "Content Location",
                    picklist(content_version::CONTENT_LOCATION_VALUES),
                )),
                DefaultValue::Text("S"),
            ),
            read_only(
                content_version::CONTENT_SIZE,
                "Size",
                FieldType::Number {
                    precision: 9,
                    scale: 0,
                },
            ),
            read_only(content_version::FILE_EXTENSION, "File Extension", text(40)),
            read_only(content_version::FILE_TYPE, "File Type", text(20)),
            read_only(content_version::CHECKSUM, "Checksum", text(50)),
            with_default(
                read_only(content_version::IS_LATEST, "Is Latest", FieldType::Boolean),
                DefaultValue::Bool(true),
            ),
            read_only(content_version::VERSION_NUMBER, "Version Number", text(20)),
        ],
    },
    ObjectDef {
        name: content_document::OBJECT,
        label: "Content Document",
        key_prefix: "069",
        fields: &[
            read_only(content_document::TITLE, "Title", text(255)),
            read_only(
                content_document::LATEST_PUBLISHED_VERSION_ID,
                "Latest Published Version ID",
                reference("ContentVersion", "LatestPublishedVersion"),
            ),
            read_only(content_document::FILE_TYPE, "File Type", text(20)),
            read_only(content_document::FILE_EXTENSION, "File Extension", text(40)),
            read_only(
                content_document::CONTENT_SIZE,
                "Size",
                FieldType::Number {
                    precision: 9,
                    scale: 0,
                },
            ),
        ],
    },
    ObjectDef {
        name: content_document_link::OBJECT,
        label: "Content Document Link",
        key_prefix: "06A",
        fields: &[
            create_only(std_required(
                content_document_link::CONTENT_DOCUMENT_ID,
                "ContentDocument ID",
                reference("ContentDocument", "ContentDocument"),
            )),
            create_only(std_required(
                content_document_link::LINKED_ENTITY_ID,
                "Linked Entity ID",
                reference("Case", "LinkedEntity"),
            )),
            std_required(
                content_document_link::SHARE_TYPE,
                "Share Type",
                picklist(content_document_link::SHARE_TYPE_VALUES),
            ),
            with_default(
                std_field(
                    content_document_link::VISIBILITY,
                    "Visibility",
                    picklist(content_document_link::VISIBILITY_VALUES),
                ),
                DefaultValue::Text("AllUsers"),
            ),
        ],
    },
    ObjectDef {
        name: user::OBJECT,
        label: "User",
        key_prefix: "005",
        fields: &[
            read_only(user::NAME, "Full Name", text(121)),
            read_only(user::USERNAME, "Username", text(80)),
            read_only(user::EMAIL, "Email", FieldType::Email),
            with_default(
                read_only(user::IS_ACTIVE, "Active", FieldType::Boolean),
                DefaultValue::Bool(true),
            ),
        ],
    },
];
