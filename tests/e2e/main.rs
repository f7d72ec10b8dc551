//! The end-to-end suite: one test binary, a module per area, against the real test cluster.
mod admission;
mod anywhere;
mod credspecs;
mod directory;
mod doctor;
mod faults;
mod files;
mod flags;
mod krew;
mod output;
mod release;
mod secrets;
mod webhook;
mod webhook_certs;
mod webhook_safety;
mod wizard;
mod workflows;
