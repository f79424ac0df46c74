"""API credentials: native tokens, Yiwise and Digelao key pairs."""
