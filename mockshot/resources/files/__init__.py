"""Files: the pure half of `/v1/files` — reading an upload as a stream (`upload`), the
checks the service makes before it keeps a file (`formats`, `checks`), file ids (`ids`), the
bodies it answers with (`objects`, `content`) and the text file-extract gives (`extraction`).
None of it touches the store: the handlers call these and keep what they return."""
