"""The ways in: socket events, pages, sign-in, the JSON APIs, health checks and the CLI.

Each validates what comes in (schemas), checks who asks, calls the domain, and announces
the outcome once it is committed (heartlink.live.announce). Nothing else announces.
"""
