"""``python -m omniva_devkit.youtube_emulator --port 8089 --data-dir DIR``."""

from omniva_devkit.youtube_emulator.emulator import main

main()
