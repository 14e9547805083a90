"""The requester's web portal (`dsar serve`): ask, prove who you are, follow the request, download.

Server-rendered pages that work without JavaScript; the same functions as the command line do the work.
"""
