"""Jobs: records and chunks in the database (``service``), runners (``inline`` asyncio inside
``hunter serve``, ``celery_app`` for ``hunter worker``/``hunter beat``) and pure schedule rules."""
