"""Emulators of the services ametrika-gitops talks to, for tests on loopback."""
