"""Files: `/v1/files`. The pure half — reading a multipart upload as a stream (`upload`), the
checks the service makes before it keeps a file (`formats`, `checks`), file ids (`ids`), the
bodies it answers with (`objects`, `content`) and the text file-extract gives
(`extraction`) — and the half that keeps files: an upload taken into the store's blob area
and records (`intake`), `ms://` references resolved for chat (`references`), and the
endpoints (`handlers`)."""
