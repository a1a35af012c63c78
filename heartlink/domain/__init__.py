"""The rules: accounts, profiles, presence, matching, rooms and links, messages, attachments,
calls, safety and privacy. They read and write the database and never emit: whoever called
announces what was committed.
"""
