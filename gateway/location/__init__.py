"""Pure parsers for caller-location payloads: PIDF-LO, Geolocation, multipart, AML, PANI."""
