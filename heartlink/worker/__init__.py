"""One server process: serving (eventlet or gevent), its protections (connection, packet and
body limits, rate limits), its background sweeps, the database engine, work off the event loop,
logging and tuning.
"""
