"""Delivering what was committed, to every worker's sockets: the announcements, the message
writer (group commit), the per-room order of what is sent, and the wire's JSON codec.
"""
