//! The files of a generated workspace, rendered from templates/ and written atomically.
