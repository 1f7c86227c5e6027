"""The Zoom App: the app context Zoom hands the panel, OAuth, tokens and the Zoom API client."""
