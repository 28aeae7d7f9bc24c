"""What every job shares around the library: reading and writing artifacts atomically
(:mod:`~sslgeom.io.artifacts`), gathering per-run CSVs into tidy tables
(:mod:`~sslgeom.io.tables`), a job's log (:mod:`~sslgeom.io.logs`), and fingerprints of library
code that rerun a job when it changes (:mod:`~sslgeom.io.code_fingerprint`)."""
