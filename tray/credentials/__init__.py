"""Credentials: the model, input hygiene, the keychain store, validation, local login."""
