"""Importing requests from a help desk's JSON API (`casebot import helpdesk`)."""
