-- One database per service (services never share tables). The postgres image runs this once, on an empty volume.
CREATE DATABASE kyc;
CREATE DATABASE incidents;
CREATE DATABASE traceability;
CREATE DATABASE scoring;
