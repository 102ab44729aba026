-- One database per service (DESIGN.md §5), created on the first start of the postgres container.
CREATE DATABASE onestop_intake;
CREATE DATABASE onestop_processing;
CREATE DATABASE onestop_notifications;
CREATE DATABASE onestop_reporting;
