//! Process exit codes, defined in one place so that the binary, the book
//! (`docs/src/exit-codes.md`) and the tests agree.

/// Everything asked for was done.
pub const OK: u8 = 0;
/// Some items failed while the others completed (for example one repository out of many).
pub const PARTIAL_FAILURE: u8 = 1;
/// The configuration, the command line or an input file is invalid; nothing was changed.
pub const USAGE: u8 = 2;
/// Two tags could not be compared: one is not a version, or they belong to different families.
pub const NOT_COMPARABLE: u8 = 3;
