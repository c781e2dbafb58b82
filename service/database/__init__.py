"""Database plumbing: the declarative base and column types, engines, the request's
transaction, bulk SQL helpers and keyset pagination."""
