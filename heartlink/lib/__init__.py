"""Pure helpers with no Flask and no database: media probing and cleaning, text rules, emoji."""
