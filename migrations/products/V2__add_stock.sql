ALTER TABLE products ADD stock INT NOT NULL DEFAULT 0;
INSERT INTO products (product_id, name, price, stock) VALUES (1, 'runway light', 129.00, 40);
