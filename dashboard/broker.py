"""kombu's filesystem transport (the embedded broker on one machine), with every message written
atomically.

kombu writes a message file in place: it creates the file, then writes the payload. A worker polling
the same folder can move and read the file in between, read an empty message and crash on it
(JSONDecodeError). Here the payload is written under a name the reader skips and renamed into place
once complete; a rename within one folder is atomic, so the reader sees a whole message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# The reader takes only files named "<anything>.<queue>.msg"; this suffix keeps it off a file
# that is still being written.
PARTIAL_SUFFIX = ".part"


class Channel(filesystem.Channel):
    # kombu's stubs give AbstractChannel._put and filesystem.Channel._put different signatures;
    # this one is filesystem.Channel's, the class it replaces.
    def _put(  # type: ignore[override]
        self, queue: str, payload: dict[str, Any], **kwargs: Any
    ) -> None:
        """Put `payload` onto `queue`: written aside, then renamed into the queue folder."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class FilesystemTransport(filesystem.Transport):
    Channel = Channel
