"""Helpers shared by the test areas (``tests/sdk``, ``tests/issuing``, ``tests/chatbot``, ``tests/e2e``)."""
