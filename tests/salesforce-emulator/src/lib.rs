//! Emulated Salesforce org.
