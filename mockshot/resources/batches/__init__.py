"""Batches: `/v1/batches` over the chat engine — the create checks (`requests`), the input
file validated line by line (`validation`), the batch kept (`create`), its lines answered
as the clock says they are due (`progress`, `lines`), its files written when it ends
(`finishing`), and the bodies it answers with (`objects`); the endpoints are `handlers`."""
