//! The people around the pipeline: customers using the portal through the
//! API ([`portal`], [`customer`]) and customer service working in the org
//! ([`staff`]).

pub mod customer;
pub mod portal;
pub mod staff;
