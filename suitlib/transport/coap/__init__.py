"""The aiocoap adapter: the device-side fetcher (:mod:`.client`) and reusable server
resources (:mod:`.server`) over the sans-I/O machines in :mod:`suitlib.transport.blockwise`."""
