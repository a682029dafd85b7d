//! What each task runs: its shell script as BitBake writes run.do_<task>, or builtin data.
