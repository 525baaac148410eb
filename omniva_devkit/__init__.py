"""Test doubles and local servers for development (YouTube emulator, sample creator site,
PostgreSQL/Redis starters). Product code never imports this package, except the CLI's demo and
youtube-emulator commands."""
