"""The console: server-rendered pages for officers and citizens over the four services' public HTTP APIs."""
