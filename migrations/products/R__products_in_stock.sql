CREATE OR REPLACE VIEW products_in_stock AS
    SELECT product_id, name, price FROM products WHERE stock > 0;
