"""What a command does to one database: the Run, its steps once each, the two strategies, fleets, repair, inspection."""
