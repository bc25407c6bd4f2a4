//! The steps after a run's downloads are recorded: what happens once the version database says
//! what is new (telling people about it, and more to come).

pub mod notify;
