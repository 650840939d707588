"""The organisation's standard operating procedure for TikTok devices, from its policy."""
