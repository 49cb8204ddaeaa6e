"""The project's own TrackIO store, .trackio/ beside this file, wherever a run starts: on the host
too, where TrackIO would use ~/.cache. TrackIO reads TRACKIO_DIR as it is imported, so each entry
point imports this module before TrackIO."""

import os
from pathlib import Path

os.environ.setdefault("TRACKIO_DIR", str(Path(__file__).resolve().parent / ".trackio"))
