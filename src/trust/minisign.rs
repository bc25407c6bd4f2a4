//! minisign (being written).
