# webui/: static files served by the admin listener.
