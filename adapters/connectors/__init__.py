"""Payment connectors over HTTP: a GSMA mobile-money provider and a Mojaloop SDK scheme adapter, each
answering a `domain.connectors.Answer` for one `domain.connectors.Payment`."""
