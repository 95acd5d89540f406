"""suitlib.sim — the simulated mote, fleets and the end-to-end journey (an edge: it does I/O).

- :class:`~suitlib.sim.mote.Mote`: flash from a device profile, the reference bootloader with a
  SUIT envelope verifier, and the update agent (poll, process, stream, swap, self-test, report).
- :mod:`~suitlib.sim.manufacturer`: identities, full and delta releases, signing.
- :mod:`~suitlib.sim.fleet`: many motes against one server in one event loop.
"""
