"""The web console at `/_mockshot/`: static assets, and the live change feed they follow."""
