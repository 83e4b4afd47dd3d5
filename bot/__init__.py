"""Community assistant: services, data model and runtime around the Rasa bot."""
import os

# Rasa reports usage and crashes to its own servers unless told not to; ours stay private
# (and these machines have no route out anyway). Child processes inherit this.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
