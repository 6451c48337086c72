//! A local, stateful, in-memory emulator of the Ango Hub REST API (work in progress).
