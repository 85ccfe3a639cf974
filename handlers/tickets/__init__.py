"""The external ticket system (TICKET_API_URL): new cases POSTed there, its ids read back."""
