"""The browser front end: the live what-if page, and the frame of the classroom game's pages.

``app.create_app`` builds the Starlette app that ``blocsim serve`` runs. Imports layers 0-7.
"""
