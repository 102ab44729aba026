"""The only home of intake's SQL: the tables (`tables`), the receipt's statements (`receipts`), the desk's
queries and the following's bulk statements (`dossiers`), and rows <-> the pure desk view (`rows`)."""
