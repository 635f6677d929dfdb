"""The BPM engine layer on SpiffWorkflow 3.2; it knows nothing of Flask or the domain."""
