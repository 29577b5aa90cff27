-- Default schema of the TDS test server: OtoMaX's produk and transaksi as seen in public add-ons,
-- and konter's default physical-voucher table (see config.example.toml [otomax.vouchers]).
CREATE TABLE produk (
    kode          varchar(20)   NOT NULL PRIMARY KEY,
    nama          varchar(100)  NOT NULL,
    harga_jual    decimal(18,0) NOT NULL,
    harga_beli    decimal(18,0) NULL,
    aktif         bit           NOT NULL,
    gangguan      bit           NULL,
    kosong        bit           NULL,
    kode_operator varchar(20)   NULL
);

CREATE TABLE transaksi (
    kode          int           IDENTITY(1,1) PRIMARY KEY,
    tgl_entri     datetime      NOT NULL,
    kode_produk   varchar(20)   NOT NULL,
    tujuan        varchar(50)   NULL,
    kode_reseller varchar(20)   NULL,
    harga         decimal(18,0) NULL,
    sn            varchar(100)  NULL,
    status        int           NOT NULL,
    tgl_status    datetime      NULL
);

CREATE TABLE voucher_fisik (
    id            int           IDENTITY(1,1) PRIMARY KEY,
    kode_produk   varchar(20)   NOT NULL,
    kode_voucher  varchar(50)   NOT NULL,
    serial_number varchar(50)   NOT NULL,
    expiry_date   date          NULL,
    usage_status  tinyint       NOT NULL,
    entry_date    datetime      NOT NULL,
    CONSTRAINT uq_voucher_kode UNIQUE (kode_produk, kode_voucher),
    CONSTRAINT uq_voucher_serial UNIQUE (kode_produk, serial_number)
);

INSERT INTO produk (kode, nama, harga_jual, harga_beli, aktif, gangguan, kosong, kode_operator) VALUES
    ('TSELVD5',  'Telkomsel Voucher Data 5GB',  32000, 29500, 1, 0, 0, 'TSEL'),
    ('TSELVD10', 'Telkomsel Voucher Data 10GB', 52000, 48500, 1, 0, 0, 'TSEL'),
    ('ISATVD3',  'Indosat Voucher Data 3GB',    22000, 19800, 1, 0, 0, 'ISAT'),
    ('XLVD5',    'XL Voucher Data 5GB',         30000, 27300, 1, 0, 0, 'XL'),
    ('AXISVD2',  'Axis Voucher Data 2GB',       15000, 13200, 1, 0, 0, 'AXIS'),
    ('TRIVD6',   'Tri Voucher Data 6GB',        27000, 24400, 1, 0, 0, 'TRI');
