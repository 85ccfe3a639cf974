"""The webhook channel: SMS/WhatsApp providers POST customer messages, replies are POSTed back."""
