//! The end-to-end suite: one test binary, a module per area, against the real test cluster.
mod credspecs;
mod directory;
mod doctor;
mod faults;
mod files;
mod krew;
mod secrets;
mod webhook;
mod wizard;
