//! The doctor against the emulators over HTTP, the metadata golden files, and
//! the agreement of the schema, the emulator and the metadata package.

mod against_emulators;
mod agreement;
mod flow;
mod helpers;
mod metadata;
mod smoke;
