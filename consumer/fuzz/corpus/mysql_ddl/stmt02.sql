CREATE TABLE IF NOT EXISTS d.t (
  a INT, b VARCHAR(5) NOT NULL COMMENT 'the ''b'' -- not a comment',
  c INT AS (a + 1) VIRTUAL, j LONGTEXT CHECK (json_valid(`j`)),
  -- a comment
  PRIMARY KEY (b(3), a DESC), KEY k (c), UNIQUE (a), CONSTRAINT x CHECK (a > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci # the end