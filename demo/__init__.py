"""`make demo`: runs the whole product on devstack + sandbox and reports each capability as a check."""
